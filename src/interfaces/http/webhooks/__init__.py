"""``/admin/webhooks…``: the endpoints the apps are told of changes at, for admins."""
