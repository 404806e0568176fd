from tests.conftest import TEST_PASSWORD

def test_probe(app, member, new_client):
    a = new_client()
    b = new_client()
    r = a.post("/login", data={"email": member.email, "password": TEST_PASSWORD})
    print("login", r.status_code, r.headers.get("Location"))
    r = b.get("/profile")
    print("anon profile", r.status_code, r.headers.get("Location"))
    for nxt in ["/\\evil.example", "/\t/evil.example", "/%5Cevil.example", "/\\/evil.example"]:
        c = new_client()
        r = c.post("/login", data={"email": member.email, "password": TEST_PASSWORD, "next": nxt})
        print(repr(nxt), r.status_code, repr(r.headers.get("Location")))
    r = a.get("/password/reset/nonsense")
    print("reset", r.status_code, r.headers.get("Location"))
    for i in range(7):
        r = b.post("/login", data={"email": member.email, "password": "wrong password"})
        print(i, r.status_code)
    print(r.get_data(as_text=True)[-1500:])
