"""The S3 Encryption Client message format: object metadata V1/V2/V3 and encryption contexts.

Pure functions over dicts of strings; this layer knows nothing of boto3 or of AES.
"""
