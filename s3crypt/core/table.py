"""What s3crypt does with every operation of botocore's S3 service model, and why.

Each operation is *encrypted* (its body is encrypted or decrypted), *adjusted* (s3crypt changes or checks
the call so encrypted objects stay readable), *passthrough* (safe as boto3 sends it) or *refused* (it would
harm or misread an encrypted object: refused before anything is sent). An operation botocore knows but this
table does not (a newer botocore) fails closed: refused if it names an object (``Key``), passed through if not.
``docs/operations.md`` lists the same table for users; a test keeps the two and botocore's model in step.
"""

from __future__ import annotations

import dataclasses
import enum


class Kind(enum.Enum):
    PASSTHROUGH = "passthrough"
    ENCRYPTED = "encrypted"
    ADJUSTED = "adjusted"
    REFUSED = "refused"


@dataclasses.dataclass(frozen=True)
class Operation:
    kind: Kind
    why: str


def _passthrough(why: str, *names: str) -> dict[str, Operation]:
    return dict.fromkeys(names, Operation(Kind.PASSTHROUGH, why))


_BUCKET_WHY = "works on a bucket (its configuration, or a session), not on any object's content or metadata"
_BUCKET_OPERATIONS = _passthrough(
    _BUCKET_WHY,
    "CreateBucket",
    "CreateBucketMetadataConfiguration",
    "CreateBucketMetadataTableConfiguration",
    "CreateSession",
    "DeleteBucket",
    "DeleteBucketAnalyticsConfiguration",
    "DeleteBucketCors",
    "DeleteBucketEncryption",
    "DeleteBucketIntelligentTieringConfiguration",
    "DeleteBucketInventoryConfiguration",
    "DeleteBucketLifecycle",
    "DeleteBucketMetadataConfiguration",
    "DeleteBucketMetadataTableConfiguration",
    "DeleteBucketMetricsConfiguration",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketReplication",
    "DeleteBucketTagging",
    "DeleteBucketWebsite",
    "DeletePublicAccessBlock",
    "GetBucketAbac",
    "GetBucketAccelerateConfiguration",
    "GetBucketAcl",
    "GetBucketAnalyticsConfiguration",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration",
    "GetBucketLifecycle",
    "GetBucketLifecycleConfiguration",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketMetadataConfiguration",
    "GetBucketMetadataTableConfiguration",
    "GetBucketMetricsConfiguration",
    "GetBucketNotification",
    "GetBucketNotificationConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketReplication",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetObjectLockConfiguration",
    "GetPublicAccessBlock",
    "HeadBucket",
    "ListBucketAnalyticsConfigurations",
    "ListBucketIntelligentTieringConfigurations",
    "ListBucketInventoryConfigurations",
    "ListBucketMetricsConfigurations",
    "ListBuckets",
    "ListDirectoryBuckets",
    "PutBucketAbac",
    "PutBucketAccelerateConfiguration",
    "PutBucketAcl",
    "PutBucketAnalyticsConfiguration",
    "PutBucketCors",
    "PutBucketEncryption",
    "PutBucketIntelligentTieringConfiguration",
    "PutBucketInventoryConfiguration",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "PutBucketLogging",
    "PutBucketMetricsConfiguration",
    "PutBucketNotification",
    "PutBucketNotificationConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketReplication",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutObjectLockConfiguration",
    "PutPublicAccessBlock",
    "UpdateBucketMetadataAnnotationTableConfiguration",
    "UpdateBucketMetadataInventoryTableConfiguration",
    "UpdateBucketMetadataJournalTableConfiguration",
)

_OBJECT_OPERATIONS = {
    "PutObject": Operation(
        Kind.ENCRYPTED,
        "the body is encrypted and the envelope stored in the metadata (or an instruction file); checksum "
        "values of the plaintext and WriteOffsetBytes (appending to an object) are refused",
    ),
    "GetObject": Operation(
        Kind.ENCRYPTED,
        "the body is authenticated and decrypted; a Range is served from the ciphertext only with "
        "enable_ranged_get, except one that covers the whole object; PartNumber is refused",
    ),
    "CreateMultipartUpload": Operation(Kind.ENCRYPTED, "opens one encrypted message for the whole upload"),
    "UploadPart": Operation(Kind.ENCRYPTED, "each part is encrypted in order; the last one carries the tag"),
    "CompleteMultipartUpload": Operation(
        Kind.ADJUSTED,
        "sends a part with only the tag if the last part was not marked, then writes the instruction file; "
        "MpuObjectSize (the plaintext's size) is refused",
    ),
    "AbortMultipartUpload": Operation(Kind.ADJUSTED, "forgets the upload's encryption state"),
    "UploadPartCopy": Operation(
        Kind.ADJUSTED,
        "refused into an encrypted upload (the copied bytes would not be part of its message); into a plain "
        "upload it copies ciphertext as it is",
    ),
    "CopyObject": Operation(
        Kind.ADJUSTED,
        "keeps the envelope with MetadataDirective=REPLACE, copies the instruction file to a new key, and "
        "re-binds an object bound to its location",
    ),
    "DeleteObject": Operation(Kind.ADJUSTED, "deletes the object's instruction file too"),
    "DeleteObjects": Operation(Kind.ADJUSTED, "deletes the objects' instruction files too"),
    "RestoreObject": Operation(
        Kind.ADJUSTED,
        "restores the archived ciphertext as it is; a restore with SelectParameters is refused (S3 would "
        "query ciphertext)",
    ),
    "SelectObjectContent": Operation(
        Kind.REFUSED, "S3 Select queries the stored bytes, which are ciphertext; get the object and filter locally"
    ),
    "RenameObject": Operation(
        Kind.REFUSED,
        "a rename would leave an instruction file behind and break an object bound to its location; "
        "copy_object to the new key, then delete_object",
    ),
    "HeadObject": Operation(
        Kind.PASSTHROUGH, "reports the ciphertext's size, ETag and checksums, and shows the envelope in Metadata"
    ),
    "GetObjectAttributes": Operation(Kind.PASSTHROUGH, "reports the ciphertext's size, ETag, checksums and parts"),
    "ListParts": Operation(Kind.PASSTHROUGH, "reports the ciphertext's part sizes and checksums"),
    "GetObjectTorrent": Operation(Kind.PASSTHROUGH, "a torrent serves the ciphertext"),
    "UpdateObjectEncryption": Operation(
        Kind.PASSTHROUGH, "changes only S3's server-side encryption; the client-side envelope stays"
    ),
    "WriteGetObjectResponse": Operation(
        Kind.PASSTHROUGH, "an Object Lambda's response is sent as given: s3crypt does not encrypt it"
    ),
}
_OBJECT_OPERATIONS |= _passthrough(
    "changes or reads what S3 keeps beside the content (ACLs, tags, locks, annotations); the content and "
    "the envelope stay as they are",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectAnnotation",
    "PutObjectAnnotation",
    "DeleteObjectAnnotation",
    "ListObjectAnnotations",
)
_OBJECT_OPERATIONS |= _passthrough(
    "lists objects and uploads with the ciphertext's sizes; instruction files are listed as objects",
    "ListObjects",
    "ListObjectsV2",
    "ListObjectVersions",
    "ListMultipartUploads",
)

OPERATIONS: dict[str, Operation] = {**_BUCKET_OPERATIONS, **_OBJECT_OPERATIONS}
"""Every operation s3crypt knows, by botocore's operation name (a superset of any one botocore's model)."""
