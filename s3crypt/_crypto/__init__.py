"""Content encryption: algorithm suites, key derivation and the streaming ciphers.

This layer knows nothing of boto3 or S3; it is the only code that touches AES for content.
"""
