# The AWS SDK for Ruby's S3 EncryptionV2 client, driven by s3crypt's tests (tests/integration/test_ruby_peer.py).
#
# Reads one JSON request on stdin:
#   {"op": "put"|"get", "s3": CONNECTION, "kms": CONNECTION, "region": R, "bucket": B, "key": K,
#    "wrap": "kms"|"aes"|"rsa", "kms_key_id": ID, "aes_key": BASE64, "rsa_pem": PEM,
#    "context": {...}, "body": BASE64 (put), "instruction_file": true|false}
# where a CONNECTION is {"endpoint": URL, "access_key_id": ID, "secret_access_key": SECRET},
# and prints {"body": BASE64} for a get, {} for a put.
require 'aws-sdk-s3'
require 'aws-sdk-kms'
require 'base64'
require 'json'
require 'openssl'

request = JSON.parse($stdin.read)
def connection(settings, region)
  { endpoint: settings['endpoint'], region: region, access_key_id: settings['access_key_id'],
    secret_access_key: settings['secret_access_key'], ssl_verify_peer: false }
end
options = {
  client: Aws::S3::Client.new(**connection(request['s3'], request['region']), force_path_style: true),
  content_encryption_schema: :aes_gcm_no_padding,
  security_profile: :v2,
  envelope_location: request['instruction_file'] ? :instruction_file : :metadata
}
case request['wrap']
when 'kms'
  # Debian's aws-sdk-kms (1.24) predates Decrypt's KeyId, which its aws-sdk-s3 (1.117) sends: without
  # validation the old model leaves it out, and KMS finds the key from the ciphertext.
  options.merge!(key_wrap_schema: :kms_context, kms_key_id: request['kms_key_id'],
                 kms_client: Aws::KMS::Client.new(**connection(request['kms'], request['region']), validate_params: false))
when 'aes'
  options.merge!(key_wrap_schema: :aes_gcm, encryption_key: Base64.strict_decode64(request['aes_key']))
when 'rsa'
  options.merge!(key_wrap_schema: :rsa_oaep_sha1, encryption_key: OpenSSL::PKey::RSA.new(request['rsa_pem']))
end
client = Aws::S3::EncryptionV2::Client.new(**options)
params = { bucket: request['bucket'], key: request['key'] }
params[:kms_encryption_context] = request['context'] if request['wrap'] == 'kms'
if request['op'] == 'put'
  client.put_object(**params, body: Base64.strict_decode64(request['body']))
  puts '{}'
else
  puts JSON.generate({ body: Base64.strict_encode64(client.get_object(**params).body.read) })
end
