from __future__ import annotations


def test_submit_then_read(gw) -> None:  # type: ignore[no-untyped-def]
    c = gw.client
    r = c.post("/api/movies", json={"prompt": "a lighthouse keeper finds a message", "num_sequences": 2},
               headers=gw.h("alice"))
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    r = c.get(f"/api/movies/{mid}", headers=gw.h("alice"))
    assert r.status_code == 200, r.text
    print(r.json())
    r = c.get("/api/movies", headers=gw.h("alice"))
    assert r.status_code == 200, r.text
    print(r.json())
    assert c.get(f"/api/movies/{mid}", headers=gw.h("bob")).status_code == 404
