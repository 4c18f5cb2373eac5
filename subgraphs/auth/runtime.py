"""What the auth service holds for its lifetime besides the shared resources: settings, signing
keys, the password hasher, the rate limits, the TOTP keys and the mail sender's wake-up call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from shared.config import AppEnv, AuthSettings, ConfigurationError
from shared.ratelimit import RateLimit
from shared.tokens import SigningKeys, dev_key_path, ensure_dev_key, split_pems
from subgraphs.auth.mfa_crypto import MfaKeys
from subgraphs.auth.passwords import Passwords


@dataclass(frozen=True, slots=True)
class AuthLimits:
    """Per client address: every attempt counts. Per account: see docs/auth.md."""

    login_ip: RateLimit
    login_account: RateLimit
    register_ip: RateLimit
    register_account: RateLimit
    reset_request_ip: RateLimit
    reset_request_account: RateLimit
    reset_ip: RateLimit
    change_password_account: RateLimit
    mfa_ip: RateLimit
    mfa_account: RateLimit

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> AuthLimits:
        window = settings.rate_limit_window_seconds
        per_ip = settings.auth_rate_limit_per_ip
        per_account = settings.auth_rate_limit_per_account
        return cls(
            login_ip=RateLimit("login:ip", per_ip, window),
            login_account=RateLimit("login:account", per_account, window),
            register_ip=RateLimit("register:ip", per_ip, window),
            register_account=RateLimit("register:account", per_account, window),
            reset_request_ip=RateLimit("reset-request:ip", per_ip, window),
            reset_request_account=RateLimit("reset-request:account", per_account, window),
            reset_ip=RateLimit("reset:ip", per_ip, window),
            change_password_account=RateLimit("change-password:account", per_account, window),
            mfa_ip=RateLimit("mfa:ip", per_ip, window),
            mfa_account=RateLimit("mfa:account", per_account, window),
        )


def load_signing_keys(settings: AuthSettings) -> SigningKeys:
    """The configured key; in development only, a key file created under the data folder."""
    if settings.jwt_private_key is not None:
        private_pem = settings.jwt_private_key.get_secret_value().encode()
    elif settings.app_env is AppEnv.DEVELOPMENT:
        private_pem = ensure_dev_key(dev_key_path(settings.data_dir)).read_bytes()
    else:
        raise ConfigurationError("JWT_PRIVATE_KEY is not set")
    return SigningKeys(private_pem, split_pems(settings.jwt_previous_public_keys))


@dataclass
class AuthRuntime:
    settings: AuthSettings
    keys: SigningKeys
    passwords: Passwords
    limits: AuthLimits
    mfa_keys: MfaKeys
    mail_queued: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def create(cls, settings: AuthSettings, passwords: Passwords | None = None) -> AuthRuntime:
        return cls(
            settings=settings,
            keys=load_signing_keys(settings),
            passwords=passwords or Passwords(),
            limits=AuthLimits.from_settings(settings),
            mfa_keys=MfaKeys.from_settings(settings),
        )

    def wake_mailer(self) -> None:
        """Tell the mail sender that a committed transaction queued mail."""
        self.mail_queued.set()
