"""Managed transfers with boto3's signatures: upload_file, upload_fileobj, download_file, download_fileobj, copy.

One concern a module, as in s3transfer:

- :mod:`.manager`: :class:`Transfers`, the facade the client's methods call; it checks ``ExtraArgs``
  (:mod:`.extra_args`) and hands the transfer to one of the modules below;
- :mod:`.upload`: one ``put_object`` below the multipart threshold, else concurrent parts, each encrypted with
  AES-CTR at its offset as it is sent, while GCM reads the plaintext once, in order, for the tag that ends the
  last part; :mod:`.multipart` creates, completes or aborts the upload and sends each part;
- :mod:`.download`: ranged GETs (:mod:`.arrivals`) written at their offsets in a file, authenticated in one
  sequential pass;
- :mod:`.copies`: managed copies, one ``copy_object`` or a multipart copy planned by
  :mod:`s3crypt.operations.copy`;
- :mod:`.utils`: what they share (part sizes, concurrency, progress callbacks).
"""

from s3crypt.transfer.manager import Transfers

__all__ = ["Transfers"]
