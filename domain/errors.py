"""Domain errors. Each carries an HTTP status and a message for the user (zh-CN)."""

from __future__ import annotations


class DomainError(Exception):
    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "您没有权限执行此操作。") -> None:
        super().__init__(message)


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "要找的内容不存在或已被删除。") -> None:
        super().__init__(message)


class Conflict(DomainError):
    """Someone else changed the record first; nothing was overwritten."""

    status = 409

    def __init__(
        self, message: str = "该记录已被其他人修改，您的修改未保存。请刷新后重试。"
    ) -> None:
        super().__init__(message)


class ValidationFailed(DomainError):
    """Input the user can correct. `fields` maps a field name to its message."""

    status = 400

    def __init__(self, fields: dict[str, str], message: str = "请修正标出的内容后再提交。") -> None:
        super().__init__(message)
        self.fields = fields


class TooManyAttempts(DomainError):
    status = 429
