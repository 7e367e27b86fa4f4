"""What is claimed about someone, and how it is proven: JWS (``jose``), SD-JWT and SD-JWT VC
(RFC 9901, ``sd_jwt``), VCDM 2.0 with JOSE (``vc_jwt``), and status lists (IETF Token Status
List, W3C Bitstring Status List, ``status_list``). Pure domain code: no Flask, no SQL, no
network; time and randomness are parameters.

    >>> from credentials import SD, issue, present, verify
    >>> from identity import KeyType, PrivateKey
    >>> issuer = PrivateKey.generate(KeyType.P256)
    >>> sd = issue({"iss": "did:example:i", SD("age_over_18"): True}, issuer, header={"typ": "t"})
    >>> shown = present(sd, disclose=[("age_over_18",)])
    >>> verify(shown, lambda header, claims: issuer.public_key, expected_typ="t", now=0,
    ...        require_kb=False).claims
    {'iss': 'did:example:i', 'age_over_18': True}
"""

from __future__ import annotations

from credentials import errors, jose, sd_jwt, status_list, vc_jwt
from credentials.jose import decode_unverified, sign_compact, verify_compact, verify_compact_raw
from credentials.sd_jwt import (
    ALL,
    SD,
    Disclosure,
    VerifiedSdJwt,
    issue,
    issue_sd_jwt_vc,
    present,
    verify,
    verify_sd_jwt_vc,
)
from credentials.status_list import (
    BitOrder,
    StatusEntry,
    StatusList,
    StatusListToken,
    TokenStatus,
    allocate_index,
    build_status_list_token,
    decode_bitstring,
    decode_token_status_list,
    encode_bitstring,
    encode_token_status_list,
    verify_status_list_token,
)
from credentials.vc_jwt import (
    VerifiedCredential,
    VerifiedPresentation,
    build_vc_jwt,
    build_vp_jwt,
    verify_vc_jwt,
    verify_vp_jwt,
)

__all__ = [
    "ALL",
    "SD",
    "BitOrder",
    "Disclosure",
    "StatusEntry",
    "StatusList",
    "StatusListToken",
    "TokenStatus",
    "VerifiedCredential",
    "VerifiedPresentation",
    "VerifiedSdJwt",
    "allocate_index",
    "build_status_list_token",
    "build_vc_jwt",
    "build_vp_jwt",
    "decode_bitstring",
    "decode_token_status_list",
    "decode_unverified",
    "encode_bitstring",
    "encode_token_status_list",
    "errors",
    "issue",
    "issue_sd_jwt_vc",
    "jose",
    "present",
    "sd_jwt",
    "sign_compact",
    "status_list",
    "vc_jwt",
    "verify",
    "verify_compact",
    "verify_compact_raw",
    "verify_sd_jwt_vc",
    "verify_status_list_token",
    "verify_vc_jwt",
    "verify_vp_jwt",
]
