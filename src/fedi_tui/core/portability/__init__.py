"""Moving an operator's data: the primitives backup, restore and migration are built on.

Stable API (no Textual, no network library here; the adapters implement the ports):

- ports (`core.deploy.ports` + `core.portability.ports`):
  `MachineShell.stream_out(argv, sink, on_line=)` — a remote command's stdout as raw
  bytes into an async `sink(chunk)`; `MachineShell.stream_in(argv, source, on_line=)` —
  feed its stdin from an async iterable of bytes. Both check the exit status, send
  stderr lines to `on_line`, and stop the remote command when cancelled.
  `ObjectStore.bucket(bucket, access_key_id, secret) -> BucketObjects` with `list()`
  (all pages; key, size, ETag), `head(key)`, `get(key, out_file) -> ObjectRead`
  (size, sha256, md5, etag computed locally), `put(key, in_file, size, md5) -> etag`
  (Content-MD5 sent, ETag checked), `delete(key)`.
- `database`: `Database(shell, name, prefix=deploy.database_command)`;
  `dump_to_file(db, path, meter)`, `restore_from_file(db, path, meter,
  expect_sha256=)`, `transfer(source_db, target_db, meter)` — `pg_dump -Fc` streamed
  through fedi-tui's own connections into `pg_restore --clean --if-exists --create`.
  Each returns `Moved(size, sha256)`.
- `objects`: `copy_objects(src_bucket, dst_bucket, record=VerifiedRecord(path),
  meter=, concurrency=8) -> CopyReport` (every object verified by size, MD5/ETag and
  hashed with SHA-256; a re-run with the same record skips what was verified and is
  still there); `download_objects(bucket, dir)` / `upload_objects(stored, dir, bucket)`
  keep objects by content (`stored_path(dir, sha256)`).
- `progress.Meter(emit, deployment=, step=, part=, what=)`: `TransferProgress` events
  (bytes, objects, totals, seconds; rates as properties) on the one event stream,
  throttled, and a final one from `finish()`.
- `instances`: which database, bucket, key, secrets and units each app instance of an
  operator has (`DataNeed` on the app module: database name, units to stop/start;
  `deploy.database_command` / `services_command` / `secrets_refresh` of its runtime).
- `services.units(shell, inst, "stop"|"start")`, `services.healthy(shell, inst, log)`;
  `shells.Shells(ws, ports)`: one SSH login per machine for a run.
- `secrets`: an instance's secrets as a bundle (files + storage keys with their ids);
  `with_key(text, id, secret)` rewrites the S3 credentials of an env file.
- `run.DataRun(ws, kind, sinks)`: deploy lock, history log (`kind`), RunStarted/
  RunFinished, `async with run.step(id, machine, text) as s` (`s.log`, `s.line_sink()`,
  `s.meter(part, what)`), redaction of every known secret.
- `manifest` / `backup` / `restore`: the `fedi-tui backup` / `restore` commands' core.
"""
