"""The password policy and hashing."""
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from procurement.core.errors import DomainError

# The most common passwords seen in Chinese leaks plus obvious local ones.
COMMON_PASSWORDS = frozenset(
    {
        "123456789a", "a123456789", "qwertyuiop", "1qaz2wsx3edc", "password123",
        "admin12345", "abc1234567", "woaini1314", "1234567890a", "p@ssw0rd123",
        "lingyuan2016", "lingyuan123",
    }
)


def check_policy(password: str, username: str = "") -> None:
    """Raise DomainError with the first rule the password breaks."""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        raise DomainError(f"密码至少需要 {min_length} 个字符。", field="password")
    if len(password) > 128:
        raise DomainError("密码不能超过 128 个字符。", field="password")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise DomainError("密码必须同时包含字母和数字。", field="password")
    if username and username.lower() in password.lower():
        raise DomainError("密码不能包含用户名。", field="password")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise DomainError("密码过于简单，请换一个。", field="password")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    return check_password_hash(password_hash, password)


# Burnt on unknown usernames so that a wrong username costs as long as a wrong password.
def dummy_verify(password: str) -> None:
    check_password_hash(hash_password("timing-equaliser-1"), password)


def generate_initial_password() -> str:
    """A readable one-time password that satisfies the policy (no 0/O, 1/l confusion)."""
    letters = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ"
    digits = "23456789"
    while True:
        chars = [secrets.choice(letters + digits) for _ in range(12)]
        password = "".join(chars)
        if any(c in letters for c in chars) and any(c in digits for c in chars):
            return password

