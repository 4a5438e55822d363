import logging

from django.conf import settings
from django.db import IntegrityError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sales import notify, services, stripe_events
from viewers.operators import emails

logger = logging.getLogger(__name__)

# Stripe's event payloads are a few kilobytes; a body far larger than any of them is refused unread.
MAX_BODY_BYTES = 256 * 1024


@csrf_exempt  # Stripe cannot send a CSRF token; the signature is what proves the sender
@require_POST
def stripe_webhook(request):
    if not settings.STRIPE_WEBHOOK_SECRET:
        logger.error("A Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set; Stripe will retry it.")
        return _reply(503, error="not configured")
    if _content_length(request) > MAX_BODY_BYTES:
        return _reply(413, error="too large")
    try:
        event = stripe_events.verify(
            request.body,
            request.headers.get("Stripe-Signature"),
            settings.STRIPE_WEBHOOK_SECRET,
            settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except stripe_events.Rejected as exc:
        return _reply(400, error=str(exc))
    try:
        outcome = services.process_event(event)
    except IntegrityError:
        # Another delivery stored this payment meanwhile, or the event's ids belong to two stored payments.
        # Nothing was written (the event's transaction rolled back); Stripe retries what is not answered 2xx.
        logger.warning("Stripe %s %s conflicts with a stored payment; Stripe will retry it.", event.type, event.id)
        return _reply(409, error="conflict")
    if outcome.notify:
        notify.notify_buyers(outcome.notify, emails.site_url())
    # 200 for everything Stripe sent in good faith, unmatched and ignored included, or it retries for days.
    return _reply(200, received=True, outcome=outcome.summary)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _reply(status, **body):
    return JsonResponse(body, status=status)
