"""The movie service: what every front end (cli, api and its pages, handoff through the
API) asks of the job system, in one place.

- movies.py: the facade (submit, find, list, events, cancel, retry, delete)
- submit.py: a submission validated once into a FilmSpec (deepflix/film/spec.py)
- admission.py: quotas and the per-user admission lock
- public.py, schemas.py: a movie shaped for the outside (MoviePublic), once
- files.py: a movie's files in the store
- cli.py: `deepflix jobs show/list/cancel/retry/delete` over the facade
"""
