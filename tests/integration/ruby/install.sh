#!/bin/sh
# Installs the Ruby peer of tests/integration/test_ruby_peer.py: the AWS SDK for Ruby (S3 EncryptionV2, KMS).
set -e
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q ruby ruby-aws-sdk-s3 ruby-aws-sdk-kms
