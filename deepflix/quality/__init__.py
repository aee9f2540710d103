"""Quality you can check: the story consistency checker (``consistency``) and the
film QA report (``qa``)."""
