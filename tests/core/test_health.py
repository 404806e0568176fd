import lxml.html


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_home_page_renders(client):
    # The site's name is in every page's <title>: look for what only the home page says.
    response = client.get("/")
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.findtext(".//title") == "Ethical ICT procurement, together · Buyergroup"
    assert [h1.text_content().strip() for h1 in page.iter("h1")] == [
        "Ethical and sustainable ICT procurement, together"
    ]
    assert page.xpath('//ul[@class="stats"]/li')  # the network in figures
