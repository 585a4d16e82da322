"""The HTTP gateway: report intake, the reporter's status, the analysts' review pages, the
public registry of restricted resources and its appeals, and notice-and-takedown times.

`create_app` (app.py) builds it; `serve` (server.py) runs it under uvicorn.
"""
