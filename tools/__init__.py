"""Tools around the connector (the demo, the server doctor); never deployed: deploy.py stages
connector.py, act_connector/, fields.json and requirements.txt only."""
