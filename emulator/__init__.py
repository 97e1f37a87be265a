"""A local emulator of the Act! Web API, for the demo and the end-to-end tests; never deployed."""
