"""SMS through Twilio: sending (``outbound``), delivery callbacks (``status``, ``views``) and
the webhook signature check every Twilio webhook shares (``webhooks``)."""
