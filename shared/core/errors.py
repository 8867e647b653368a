"""The product's errors. Interfaces turn them into HTTP statuses or CLI messages at the edge.

CpbError
├── ConfigurationError        bad settings in the environment
├── InvalidRequest            bad input: names the field (HTTP 400)
│   └── ImportFailed          an import bundle with bad files or rows: every problem at once
├── NotFound                  no such batch, person, filter, ... (HTTP 404)
│   └── OutOfReach            there is one, but not within a school admin's schools (HTTP 404)
├── Conflict                  the request clashes with the state (HTTP 409)
└── Forbidden                 the user's role does not allow it (HTTP 403)
"""


class CpbError(Exception):
    code = "error"


class ConfigurationError(CpbError):
    code = "configuration"


class InvalidRequest(CpbError):
    code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ImportFailed(InvalidRequest):
    code = "import_failed"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the import; nothing was written")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


class NotFound(CpbError):
    code = "not_found"


class OutOfReach(NotFound):
    """A person or household outside a school admin's schools, answered as if there were none,
    so that a school admin cannot tell another school's ids from ids that do not exist. Its
    `reason` says what was refused, for the audit log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Conflict(CpbError):
    code = "conflict"


class Forbidden(CpbError):
    code = "forbidden"
