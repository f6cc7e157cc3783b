"""The asyncio client's managed transfers, native to asyncio: parts and ranges as tasks, at most
``TransferConfig.max_concurrency`` at once.

They make the sync client's decisions with the same code (:mod:`s3crypt._core.transfers`, the ``ExtraArgs``
checks of :mod:`s3crypt._transfer.extra_args`, the sealing and readers of the core and crypto layers):

- :mod:`.upload`: one ``put_object`` below the multipart threshold, else :mod:`.multipart`: sealed with the
  keyring awaited, parts sent as tasks through the unhooked client, aborted on any failure or cancellation;
- :mod:`.download`: ranged GETs as tasks (:mod:`.arrivals`) written at their offsets in a file, authenticated in
  one sequential pass (:mod:`.passes`), renamed into place only once the tag verifies;
- :mod:`.sources`: what ``upload_fileobj`` reads (sync, async ``read``, async iterable);
- :mod:`.tasks`: all tasks or none, and clean-up a cancellation cannot cut short.
"""
