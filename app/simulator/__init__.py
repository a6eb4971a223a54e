"""The GoTone simulator: a stateful stand-in for the GoTone (Ultimate SMS) gateway API.

Public entry points: `create_simulator_app`, `SimulatorServer`, `SimulatorControl`,
`SimulatorConfig`, `SimulatorState`, and `python -m app.simulator`.
"""
