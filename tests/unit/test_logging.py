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


def test_the_log_format_is_the_configured_one_else_human_on_a_terminal_and_json_elsewhere(tmp_path):
    import os
    import pty

    from config.logging import log_format_for

    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False) as terminal, open(tmp_path / "log", "w") as file:
            assert log_format_for(terminal) == "console" and log_format_for(file) == "json"
            assert log_format_for(terminal, "json") == "json" and log_format_for(file, "console") == "console"
            assert log_format_for(file, "yaml") == "json"  # not a format: chosen as if unset
    finally:
        os.close(master)
        os.close(slave)
