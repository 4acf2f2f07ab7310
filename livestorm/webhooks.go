package livestorm

import (
	"context"
	"net/http"
	"strings"
)

// ListWebhooks lists the workspace's webhook subscriptions (GET /webhooks).
// Livestorm drops disabled subscriptions from this list.
func (c *Client) ListWebhooks(ctx context.Context, o WebhookListOptions) (*List[Webhook], error) {
	return listWithOptions(ctx, c, "/webhooks", nil, o, (*decoder).webhook)
}

// CreateWebhook subscribes url to one event name (POST /webhooks). Keep the
// returned ID to unsubscribe. Livestorm keeps duplicates, so callers that
// want idempotence should list first.
func (c *Client) CreateWebhook(ctx context.Context, url, event string) (*Webhook, error) {
	const route = "/webhooks"
	url, event = strings.TrimSpace(url), strings.TrimSpace(event)
	if url == "" || event == "" {
		return nil, invalidf(http.MethodPost, route, "webhook url and event are required")
	}
	b := body{Data: resourceObject{Type: "webhooks", Attributes: map[string]any{"url": url, "event": event}}}
	return fetchOne(ctx, c, http.MethodPost, route, nil, nil, b, (*decoder).webhook)
}

// DeleteWebhook unsubscribes (DELETE /webhooks/{id}).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.exec(ctx, http.MethodDelete, "/webhooks/{id}", pathParams{"id": id}, nil, nil)
}
