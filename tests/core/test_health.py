def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Buyergroup" in response.data
