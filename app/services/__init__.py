"""Business operations: explicit workspace/user arguments, plain data back, no templates."""


class RuleError(ValueError):
    """A request that breaks a workspace rule (e.g. the last owner leaving); safe to show."""
