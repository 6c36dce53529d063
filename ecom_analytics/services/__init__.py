"""What every local server of the project shares (`ecom thrift`, `ecom kafka`, and those to come).

`settings` (ports, KEY=VALUE options, the state folder, Java), `network` (loopback, where a
process listens, free ports), `processes` (PID files, command lines, stopping a process tree) and
`service` (one server's state folder and its start / stop / status steps). A server module adds
what is its own: the command line it runs, how it recognises that command line, and a probe that
makes a real request in its protocol.
"""
