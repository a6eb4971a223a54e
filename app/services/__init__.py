"""Business operations: explicit workspace/user arguments, plain data back, no templates.

They raise the portal's own errors (app/exceptions.py).
"""
