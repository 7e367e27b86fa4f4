"""Transparency-log registry: RFC 9162 Merkle trees stored as C2SP tlog-tiles, C2SP signed notes,
checkpoints, witness cosignatures, and the pure witness / mirror state machines.

The modules here are pure domain code: no web framework, no SQL, no clock. Storage is injected
through the small ``typing.Protocol`` interfaces declared next to the code that needs them.
"""
