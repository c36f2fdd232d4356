import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="alice", email="alice@example.com", password="test")


def test_login_ok(user):
    client = APIClient()
    resp = client.post("/api/auth/login/", {"username": "alice", "password": "test"})
    assert resp.status_code == 200
    assert "token" in resp.json()


def test_login_wrong_password(user):
    client = APIClient()
    resp = client.post("/api/auth/login/", {"username": "alice", "password": "fake-password"})
    assert resp.status_code == 401


@pytest.mark.parametrize("password", ["", "dummy", "short"])
def test_register_rejects_weak_passwords(db, password):
    client = APIClient()
    resp = client.post("/api/auth/register/", {"username": "bob", "password": password})
    assert resp.status_code == 400
