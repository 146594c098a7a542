"""Logs never carry full phone numbers or passwords."""

from config.logging import mask_phone, redact_processor


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("051285123456") == "051*****3456"
    assert mask_phone("110") == "110"[-4:]
    assert mask_phone(None) is None


def test_redaction_of_keys_and_embedded_numbers():
    event = {
        "event": "x",
        "password": "secret",
        "caller_phone": "13812345678",
        "detail": "call back 13912345678 today",
        "nested": {"phone": "13700000000", "ok": 1},
    }
    out = redact_processor(None, "info", event)
    assert out["password"] == "***" and out["caller_phone"] == "***"
    assert "13912345678" not in out["detail"] and "139****5678" in out["detail"]
    assert out["nested"] == {"phone": "***", "ok": 1}
