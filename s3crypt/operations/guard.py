"""The first handler of every S3 call: applies the operation table before any other s3crypt handler runs.

It refuses what the table refuses, fails closed on an operation the table does not know, refuses the
parameters that would harm an encrypted object, and keeps presigned URLs free of s3crypt's own parameters
(a presigned URL is not encrypted: boto3 would reject a parameter it does not know, and so do we).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import xform_name

from s3crypt.core.guard import check_call, check_presign

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks
    from botocore.model import ServiceModel


def guard(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params`` of every operation, registered first."""
    if context.get("is_presign_request"):
        check_presign(model.name, params, xform_name(model.name))
    else:
        check_call(model.name, params, xform_name(model.name))


def register(events: BaseEventHooks, service_model: ServiceModel) -> None:
    for name in service_model.operation_names:
        events.register_first(f"provide-client-params.s3.{name}", guard)
