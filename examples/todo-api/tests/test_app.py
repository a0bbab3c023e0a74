from app import app


def test_add_and_list():
    client = app.test_client()
    created = client.post("/todos", json={"title": "write docs"}).get_json()
    assert created["title"] == "write docs"
    assert client.get("/todos").get_json() == [created]
