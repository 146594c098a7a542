"""The web console (zh-CN): server-rendered pages and vendored static assets, no CDN."""
