"""The CSV import's preview in the admin: its groups (rows with errors, then users that do not exist, then rows
already granted, then the new rows a page at a time), the date formats said once, and a number of queries that
does not grow with the rows."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from viewers.models import Entitlement, EntitlementImport, User
from viewers.operators import csv_import

IMPORT = "/admin/viewers/entitlement/import/"
HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"


def fans(start, stop):
    """Existing viewers fan<start>…fan<stop - 1>, their addresses in order."""
    User.objects.bulk_create([User(username=f"fan{i}", email=f"fan{i}@example.com") for i in range(start, stop)])
    return [f"fan{i}@example.com" for i in range(start, stop)]


def stage(lines, create_users=False):
    content = HEADER + "".join(line + "\n" for line in lines)
    return EntitlementImport.objects.create(filename="grants.csv", content=content, create_users=create_users)


def mixed(private_channel, new=90, missing=4, first=0):
    """In this order in the file: `missing` + 1 rows for users that do not exist (the first address twice, in rows
    that are not duplicates), `new` new rows, 3 rows with errors (one with two bad dates; four bad dates in all),
    2 rows already granted. The viewers are fan<first>…, created here."""
    emails = fans(first, first + new + 2)
    for email in emails[new:]:
        Entitlement.objects.create(user=User.objects.get(email=email), channel=private_channel)
    ghosts = [f"ghost{first + i}@example.com" for i in range(missing)]
    return stage(
        [f"{email},main-event,,,," for email in ghosts]
        + [f"{ghosts[0]},main-event,,,SD,"]
        + [f"{email},main-event,,,HD,row {i}" for i, email in enumerate(emails[:new])]
        + [
            f"{emails[0]},nope,,,,",
            f"{emails[1]},main-event,soon,later,,",
            "not-an-email,main-event,whenever,someday,,",
        ]
        + [f"{email},main-event,,,," for email in emails[new:]]
    )


def preview(client, staged, query=""):
    response = client.get(f"{IMPORT}{staged.pk}/{query}")
    assert response.status_code == 200
    return response


@pytest.mark.django_db
class TestTheGroups:
    def test_errors_come_first_then_missing_users_then_rows_already_granted_then_new_rows(
        self, admin_client, private_channel
    ):
        body = preview(admin_client, mixed(private_channel)).content.decode()
        headings = ['id="errors">Errors (3 rows)', 'id="no-user">No such user (5 rows)']
        headings += ['id="granted">Already granted (2 rows)', 'id="new">New entitlements (90 rows)']
        assert [body.index(heading) for heading in headings] == sorted(body.index(heading) for heading in headings)
        assert "<b>100 rows</b> read" in body
        assert "3 with errors" in body and "5 for no such user" in body and "2 already granted" in body
        assert "checked in" not in body  # a timing says nothing about the file

    def test_the_missing_users_are_listed_once_each_with_what_to_do(self, admin_client, private_channel):
        response = preview(admin_client, mixed(private_channel))
        body = response.content.decode()
        assert response.context["missing_emails"] == [f"ghost{i}@example.com" for i in range(4)]
        assert body.count("<li>ghost0@example.com</li>") == 1
        assert "No account has these addresses. To create them" in body and "“Invite missing users” ticked" in body
        # Rows that only lack their user are not in the errors table.
        assert [row.line for row in response.context["failing"]] == [97, 98, 99]

    def test_one_of_each_is_singular(self, admin_client, alice, carol, private_channel):
        staged = stage(
            ["ghost@example.com,main-event,,,,", "carol@example.com,nope,,,,", "alice@example.com,main-event,,,,"]
        )
        body = preview(admin_client, staged).content.decode()
        assert "Errors (1 row)" in body and "No such user (1 row)" in body and "Already granted (1 row)" in body
        assert "No account has this address. To create it" in body
        assert "This row matches an entitlement in force exactly and is left alone: line 4." in body

    def test_the_list_of_missing_addresses_is_bounded(self, admin_client, private_channel):
        staged = stage([f"ghost{i}@example.com,main-event,,,," for i in range(60)])
        body = preview(admin_client, staged).content.decode()
        assert body.count("<li>ghost") == 50 and "… and 10 more addresses." in body

    def test_inviting_them_leaves_no_such_group(self, admin_client, private_channel):
        staged = stage(["ghost@example.com,main-event,,,,"], create_users=True)
        body = preview(admin_client, staged).content.decode()
        assert "No such user" not in body and "1 user to invite" in body and "<em>(invite)</em>" in body
        assert 'value="Import 1 entitlement"' in body


@pytest.mark.django_db
class TestTheDateFormats:
    def test_two_bad_dates_in_a_row_are_two_field_errors_and_the_formats_are_said_once(
        self, admin_client, private_channel
    ):
        response = preview(admin_client, mixed(private_channel))
        body = response.content.decode()
        fan1 = next(row for row in response.context["failing"] if row.email == "fan1@example.com")
        assert [(error.field, error.message) for error in fan1.errors] == [
            ("starts_at", "'soon' is not a date"),
            ("ends_at", "'later' is not a date"),
        ]
        assert "<td>starts_at</td><td>&#x27;soon&#x27; is not a date</td>" in body
        assert "<td>ends_at</td><td>&#x27;later&#x27; is not a date</td>" in body
        assert body.count("Dates look like") == 1 and csv_import.date_help() in body

    def test_no_bad_date_no_formats(self, admin_client, carol, private_channel):
        body = preview(admin_client, stage(["carol@example.com,nope,,,,"])).content.decode()
        assert "Dates look like" not in body


@pytest.mark.django_db
class TestPagesOfNewRows:
    @pytest.fixture
    def hundred_new(self, private_channel):
        return stage([f"{email},main-event,,,," for email in fans(0, 100)])

    def test_page_two_has_the_second_fifty(self, admin_client, hundred_new):
        first = preview(admin_client, hundred_new).context["new"]
        assert [row.line for row in first] == list(range(2, 52))
        response = preview(admin_client, hundred_new, "?page=2")
        assert [row.line for row in response.context["new"]] == list(range(52, 102))
        body = response.content.decode()
        assert "Rows 51–100 of 100" in body and 'href="?page=1#new"' in body
        assert 'value="Import 100 entitlements"' in body  # the confirmation is for the whole file, on any page

    @pytest.mark.parametrize(
        "page, shown", [("abc", 1), ("1.5", 1), ("", 1), ("0", 2), ("-3", 2), ("3", 2), ("9" * 40, 2)]
    )
    def test_a_bad_page_number_shows_a_page_never_an_error(self, admin_client, hundred_new, page, shown):
        assert preview(admin_client, hundred_new, f"?page={page}").context["new"].number == shown

    def test_the_pages_need_what_the_preview_needs(self, client, sam, hundred_new):
        clerk = User.objects.create_user("clerk", is_staff=True)
        clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_entitlement", "view_entitlement"]))
        client.force_login(clerk)
        assert client.get(f"{IMPORT}{hundred_new.pk}/?page=2").status_code == 200
        hundred_new.create_users = True
        hundred_new.save()
        assert client.get(f"{IMPORT}{hundred_new.pk}/?page=2").status_code == 403  # inviting needs add_user
        client.force_login(sam)
        assert client.get(f"{IMPORT}{hundred_new.pk}/?page=2").status_code == 403

    def test_a_small_file_has_no_page_links(self, admin_client, carol, private_channel):
        body = preview(admin_client, stage(["carol@example.com,main-event,,,,"])).content.decode()
        assert "?page=" not in body


@pytest.mark.django_db
def test_the_preview_costs_the_same_queries_for_ten_rows_or_two_hundred(admin_client, private_channel):
    small = mixed(private_channel, new=5, missing=1, first=1000)
    big = mixed(private_channel, new=190, missing=3)
    preview(admin_client, small)  # once before counting: the first request of a client fills caches
    with CaptureQueriesContext(connection) as few:
        preview(admin_client, small)
    with CaptureQueriesContext(connection) as many:
        preview(admin_client, big)
    assert len(few) > 0 and len(many) == len(few), [query["sql"] for query in many.captured_queries]


@pytest.mark.django_db
def test_confirming_says_what_was_done_in_words_that_agree_with_the_numbers(admin_client, alice, carol):
    staged = stage(["carol@example.com,main-event,,,,", "alice@example.com,main-event,,,,"])
    done = admin_client.post(f"{IMPORT}{staged.pk}/", {"confirm": "1"})
    assert [str(message) for message in done.wsgi_request._messages] == [
        "Imported 1 new entitlement; 1 row already granted, left alone; 0 users invited."
    ]
    body = preview(admin_client, staged).content.decode()
    assert "<b>1</b> new entitlement, 1 row already granted, 0 users invited; 2 rows read." in body
