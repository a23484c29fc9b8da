"""The sandbox: a whole provider on loopback addresses, for trying fedi-tui with nothing real.

`fedi-tui sandbox up` starts, per provider, a supervisor process
(:mod:`fedi_tui.sandbox.supervisor`) that runs fakepve (a Proxmox VE API over
HTTPS), boots an OpenSSH machine (:mod:`fedi_tui.sandbox.hosts`) for every VM
fakepve starts, and serves a Garage stand-in (:mod:`fedi_tui.sandbox.garage`)
on a moto S3 server, plus one plain NixOS host. The same pieces are the tests'
real servers (``tests/fixtures/`` imports them from here).

Not part of the core: this package may use the network libraries, and it is
never imported by the product's commands except `fedi-tui sandbox`.
"""
