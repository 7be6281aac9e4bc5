"""The staff web app: server-rendered pages and a JSON API over the service layer."""
