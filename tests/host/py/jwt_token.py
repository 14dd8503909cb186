"""HS256 JSON Web Tokens for the tests, with the standard library only (RFC 7519 / 7515)."""
import base64
import hashlib
import hmac
import json
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(secret: str, sub: str, lifetime_s: int = 300, **claims) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    body = {"sub": sub, "iat": int(time.time()), "exp": int(time.time()) + lifetime_s}
    body.update(claims)
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)
