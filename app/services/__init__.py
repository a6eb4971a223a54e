"""Business operations: explicit workspace/user arguments, plain data back, no templates.

They raise the portal's own errors (app/exceptions.py) and never read the request: what they
need of it is passed in (services/scope.py for the audit trail and the breaker's memo).
"""
