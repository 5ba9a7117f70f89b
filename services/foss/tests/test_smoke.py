def test_create(client):
    r = client.post("/foss", json={"name": "Ada", "email": "ada@example.org"})
    assert r.status_code == 201
