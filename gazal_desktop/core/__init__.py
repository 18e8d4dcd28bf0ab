"""Plain-Python core (no Qt): chat sessions, backends, reasoning parser, hardware fit."""
