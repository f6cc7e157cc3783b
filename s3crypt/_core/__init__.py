"""The decisions of each operation, without I/O: no boto3, botocore or network call, no keyring call.

Each decision takes parameters, metadata and sizes and says what to send or how to read. Where a decision
needs a keyring (a new data key on put, an unwrapped one on get), it stops at a small request object
(:class:`~s3crypt._core.put.KeyRequest`, :class:`~s3crypt._core.get.UnwrapRequest`); the shell makes the call
(synchronously in the botocore event handlers of :mod:`s3crypt._operations`, awaited in an asyncio client)
and hands the result back to the next decision. So every shell makes the same decisions from one copy.
"""
