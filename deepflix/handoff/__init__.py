"""Hand-offs: the film out to editors (OTIO, FCPXML, EDL) and agents (MCP), and
stories in from screenplays (Fountain), prose and batches of prompts."""
