"""Access tokens: RS256 JWTs with a `kid`, published as a JWKS, ready for key rotation.

The auth service holds the private key (`SigningKeys`); every service verifies with public keys
(`TokenVerifier`), which the auth service reads locally and the others fetch from its JWKS URL,
refetching (at most every few seconds) when a token names an unknown `kid`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import Unauthenticated

ALGORITHM = "RS256"
LEEWAY_SECONDS = 5


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    jwk = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    # RFC 7638 thumbprint as the key id: stable, derived, never reused for another key.
    thumb = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())
    kid = base64.urlsafe_b64encode(thumb.digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dev_key_path(data_dir: Path) -> Path:
    """Where development keeps its signing key (`make dev` and a lone auth process agree)."""
    return data_dir / "keys" / "jwt-private.pem"


def ensure_dev_key(path: Path) -> Path:
    """Create a development signing key at `path` unless one is there (mode 0600)."""
    return ensure_secret_file(path, generate_private_key_pem)


def ensure_secret_file(path: Path, make: Callable[[], bytes]) -> Path:
    """Write `make()` to `path` (mode 0600, atomically) unless the file is there: a development
    secret created once and kept with the data."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(make())
        tmp.chmod(0o600)
        tmp.replace(path)
    return path


def split_pems(text: str) -> list[bytes]:
    marker = "-----END"
    pems, current = [], []
    for line in text.strip().splitlines():
        current.append(line)
        if line.startswith(marker):
            pems.append(("\n".join(current) + "\n").encode())
            current = []
    return pems


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    email: str
    role: str
    scope: str
    jti: str
    iat: int
    exp: int
    sid: str = ""  # the refresh-token family (login session) this token belongs to
    # RFC 8176 authentication methods of the sign-in: ("pwd",) or ("pwd", "otp") after TOTP.
    amr: tuple[str, ...] = ()

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


class SigningKeys:
    """The current private key plus the previous public keys still accepted."""

    def __init__(self, private_pem: bytes, previous_public_pems: Iterable[bytes] = ()) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the JWT signing key must be an RSA private key")
        self._private = key
        self.current = public_jwk(key.public_key())
        self.kid = self.current["kid"]
        previous = []
        for pem in previous_public_pems:
            pub = serialization.load_pem_public_key(pem)
            if not isinstance(pub, rsa.RSAPublicKey):
                raise ValueError("previous JWT keys must be RSA public keys")
            previous.append(public_jwk(pub))
        self.jwks: dict[str, Any] = {"keys": [self.current, *previous]}

    def issue(
        self,
        *,
        user_id: str,
        email: str,
        role: str,
        scopes: Iterable[str],
        issuer: str,
        audience: str,
        ttl_seconds: int,
        session_id: str = "",
        now: int | None = None,
        amr: Iterable[str] = (),
    ) -> tuple[str, Claims]:
        iat = int(time.time()) if now is None else now
        claims = Claims(
            sub=user_id,
            email=email,
            role=role,
            scope=" ".join(sorted(scopes)),
            jti=uuid.uuid4().hex,
            iat=iat,
            exp=iat + ttl_seconds,
            sid=session_id,
            amr=tuple(amr),
        )
        payload: dict[str, Any] = {
            "sub": claims.sub,
            "email": claims.email,
            "role": claims.role,
            "scope": claims.scope,
            "jti": claims.jti,
            "iat": claims.iat,
            "nbf": claims.iat,
            "exp": claims.exp,
            "iss": issuer,
            "aud": audience,
            "sid": claims.sid,
        }
        if claims.amr:
            payload["amr"] = list(claims.amr)
        token = jwt.encode(payload, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})
        return token, claims


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_fetcher(url: str, timeout: float = 3.0) -> JwksFetcher:
    async def fetch() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    return fetch


@dataclass
class TokenVerifier:
    """Verifies access tokens against a JWKS (local or fetched); RS256 only.

    A token that verified is remembered (up to `cache_size` tokens, the oldest forgotten first)
    with its claims until it expires: checking its signature again would give the same answer,
    and an RSA verification is most of what authenticating a request costs. Expiry is checked
    on every use, and the cache is emptied whenever a refetch finds the keys changed (a key
    taken out of the JWKS stops working at once; an unchanged JWKS keeps it). Revocation is not
    a property of the token: callers check it on every request
    (`shared.context.ensure_not_revoked`)."""

    issuer: str
    audience: str
    fetch_jwks: JwksFetcher
    min_refetch_seconds: float = 5.0
    cache_size: int = 4096
    clock: Callable[[], float] = time.time
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _verified: dict[str, Claims] = field(default_factory=dict)
    _material: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # kid -> (n, e) loaded

    async def _key_for(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            if key is None and time.monotonic() - self._fetched_at >= self.min_refetch_seconds:
                try:
                    jwks = await self.fetch_jwks()
                except (httpx.HTTPError, ValueError) as exc:
                    raise Unauthenticated("Token keys are unavailable") from exc
                self._fetched_at = time.monotonic()
                published = {
                    k["kid"]: k
                    for k in jwks.get("keys", [])
                    if k.get("kty") == "RSA" and "kid" in k
                }
                material = {kid: (k.get("n"), k.get("e")) for kid, k in published.items()}
                if material != self._material:
                    # A key left, came or changed: what it verified is checked afresh. (Any
                    # unknown kid causes a refetch: an unchanged JWKS keeps the cache.)
                    self._verified.clear()
                    self._material = material
                    self._keys = {
                        kid: jwt.PyJWK(k, algorithm=ALGORITHM).key for kid, k in published.items()
                    }
                key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("Invalid token")
        return key

    async def verify(self, token: str) -> Claims:
        claims = self._verified.get(token)
        if claims is not None:
            if self.clock() < claims.exp + LEEWAY_SECONDS:
                return claims
            del self._verified[token]
            raise Unauthenticated("Token expired")
        claims = await self._verify(token)
        if self.cache_size > 0:
            if len(self._verified) >= self.cache_size:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        return claims

    async def _verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("Invalid token") from exc
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise Unauthenticated("Invalid token")
        key = await self._key_for(header["kid"])
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["sub", "exp", "iat", "jti", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("Invalid token") from exc
        try:
            return Claims(
                sub=str(payload["sub"]),
                email=str(payload.get("email", "")),
                role=str(payload["role"]),
                scope=str(payload.get("scope", "")),
                jti=str(payload["jti"]),
                iat=int(payload["iat"]),
                exp=int(payload["exp"]),
                sid=str(payload.get("sid", "")),
                amr=_amr(payload.get("amr")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthenticated("Invalid token") from exc


def _amr(value: Any) -> tuple[str, ...]:
    """The `amr` claim: absent means none; anything but a list of strings is a bad token."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("amr must be a list of strings")
    return tuple(value)
