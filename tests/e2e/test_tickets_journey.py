"""The tickets capability's acceptance journey, over HTTP on a devstack of its own (the clock moves)."""

from __future__ import annotations

import requests

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def attach(client, token: str, account_id: str, content: bytes, content_type: str, filename: str) -> str:
    """Ask for the presigned POST, send the file straight to the bucket as a browser would, confirm it."""
    grant = client.post(
        f"/api/accounts/{account_id}/attachments",
        {"filename": filename, "content_type": content_type, "size": len(content)},
        token=token,
    )
    assert grant.status_code == 201, grant.text
    form = grant.json()["upload"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": (filename, content)}, timeout=30)
    assert posted.status_code == 204, posted.text
    confirmed = client.post(
        f"/api/accounts/{account_id}/attachments/{grant.json()['attachment_id']}/confirm", token=token
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    return str(grant.json()["attachment_id"])


def test_open_with_attachments_answer_reply_note_and_auto_close(private_devstack):
    # Given Ana, signed in on her own (Brazilian) account
    client = private_devstack
    ana = client.token("ana@example.com")
    account_id = next(a["account_id"] for a in client.get("/api/me", token=ana).json()["accounts"] if a["owner"])
    # When she opens a ticket with two attachments, then a confirmation email carries its number
    attachments = [
        attach(client, ana, account_id, PNG, "image/png", "erro.png"),
        attach(client, ana, account_id, PDF, "application/pdf", "log.pdf"),
    ]
    opened = client.post(
        f"/api/accounts/{account_id}/tickets",
        {
            "department": "technical_support",
            "subject": "Painel não carrega",
            "message": "O cPanel mostra erro 500 desde hoje.",
            "priority": "high",
            "attachment_ids": attachments,
        },
        token=ana,
    )
    assert opened.status_code == 201, opened.text
    ticket_id, number = opened.json()["ticket_id"], opened.json()["number"]
    client.settle()
    assert any(f"#{number}" in m["subject"] and "aberto" in m["subject"] for m in client.mail("ana@example.com"))
    path = f"/api/accounts/{account_id}/tickets/{ticket_id}"
    # When the staff reply, then Ana is emailed and sees it answered
    staff = client.staff_token()
    answered = client.post(
        f"/api/staff/tickets/{ticket_id}/replies", {"message": "Reiniciamos o PHP-FPM."}, token=staff
    )
    assert answered.status_code == 201, answered.text
    client.settle()
    assert any("Reiniciamos o PHP-FPM." in m["text"] for m in client.mail("ana@example.com"))
    assert client.get(path, token=ana).json()["status"] == "answered"
    # When Ana replies, then it is a customer reply; a staff note stays invisible to her
    replied = client.post(f"{path}/replies", {"message": "Funcionou por uma hora e voltou."}, token=ana)
    assert replied.status_code == 201 and replied.json()["ticket_status"] == "customer_reply"
    note = client.post(f"/api/staff/tickets/{ticket_id}/notes", {"message": "Ver logs do servidor web01."}, token=staff)
    assert note.status_code == 201
    detail = client.get(path, token=ana).json()
    assert detail["status"] == "customer_reply" and "web01" not in str(detail)
    assert [m["author"] for m in detail["messages"]] == ["customer", "staff", "customer"]
    download = client.get(f"{path}/attachments/{attachments[0]}", token=ana, allow_redirects=False)
    assert download.status_code == 302 and requests.get(download.headers["Location"], timeout=30).content == PNG
    # When the staff answer again and eight days pass without a reply, then the job closes it and emails her
    client.post(f"/api/staff/tickets/{ticket_id}/replies", {"message": "Trocamos o servidor."}, token=staff)
    client.settle()
    client.clock(advance="P8D")
    result = client.run_job("ticket_autoclose")
    assert result["job"] == "ticket_autoclose" and result["counts"]["closed"] >= 1
    assert client.get(path, token=client.token("ana@example.com")).json()["status"] == "closed"
    assert any(m["subject"] == f"Ticket #{number} fechado: Painel não carrega" for m in client.mail("ana@example.com"))
    assert not any("web01" in m["text"] + m["html"] for m in client.mail("ana@example.com"))


def test_the_demo_data_has_tickets_waiting_answered_and_replied(client):
    # Given the seeded demo data, as the staff queue shows it
    queue = client.get("/api/staff/tickets", token=client.staff_token()).json()["items"]
    seeded = {
        t["number"]: (t["account_name"], t["status"]) for t in queue if t["number"] in {"100001", "100002", "100003"}
    }
    # Then Ana's Brazilian account waits for an answer, her Spanish one was answered, Bruno replied to an answer
    assert seeded == {
        "100001": ("Ana Souza Design", "open"),
        "100002": ("Ana Souza Estudio", "answered"),
        "100003": ("Bruno Lima", "customer_reply"),
    }
    # And Bruno sees his thread without the staff's internal note
    bruno = client.token("bruno@example.com")
    [account] = client.get("/api/me", token=bruno).json()["accounts"]
    [ticket] = [
        t
        for t in client.get(f"/api/accounts/{account['account_id']}/tickets", token=bruno).json()["items"]
        if t["number"] == "100003"
    ]
    thread = client.get(f"/api/accounts/{account['account_id']}/tickets/{ticket['ticket_id']}", token=bruno).json()
    assert [m["author"] for m in thread["messages"]] == ["customer", "staff", "customer"]
