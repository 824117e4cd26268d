// Pure functions of the service worker (no events, no network), shared by /sw.js (importScripts) and the
// unit tests, which load this file in a sandbox. Keep it dependency-free ES2020.
((root) => {
  const DEFAULT_TITLE = "Approval Notifications";

  function safeUrl(value, origin) {
    try {
      const url = new URL(String(value), origin);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_error) {
      return null;
    }
  }

  /**
   * Turns a push message's text into showNotification() arguments. Accepts Apple's declarative web push
   * JSON ({"web_push":8030,"notification":{…}}), a plain {title, body, url} object, or plain text.
   */
  function parsePushData(text, origin) {
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_error) {
      data = null;
    }
    let n = data && data.web_push === 8030 && data.notification ? data.notification : data;
    if (!n || typeof n !== "object" || typeof n.title !== "string") {
      n = {
        title: DEFAULT_TITLE,
        body: typeof text === "string" && text ? text.slice(0, 500) : "You have a new notification.",
      };
    }
    const url = safeUrl(n.navigate || n.url || n.targetUrl || "/", origin) || `${origin}/`;
    const actions = Array.isArray(n.actions) ? n.actions.slice(0, 2) : [];
    const actionTargets = {};
    const actionPosts = {};
    const shownActions = [];
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i];
      if (!action || typeof action.action !== "string" || typeof action.title !== "string") continue;
      actionTargets[action.action] = safeUrl(action.navigate || url, origin) || url;
      const post = sameSiteApi(action.post, origin);
      if (post) actionPosts[action.action] = post;
      shownActions.push({ action: action.action, title: action.title });
    }
    const options = {
      body: typeof n.body === "string" ? n.body : "",
      icon: safeUrl(n.icon || "/icons/icon-192.png", origin) || undefined,
      badge: safeUrl(n.badge || "/icons/badge-72.png", origin) || undefined,
      tag: typeof n.tag === "string" ? n.tag : undefined,
      data: { url: url, actions: actionTargets, posts: actionPosts },
      actions: shownActions,
    };
    if (n.silent === true) options.silent = true;
    return { title: n.title || DEFAULT_TITLE, options: options };
  }

  /** Only this app's own API may be called from a notification action, never another site. */
  function sameSiteApi(value, origin) {
    if (typeof value !== "string") return null;
    const url = safeUrl(value, origin);
    return url && url.indexOf(`${origin}/api/`) === 0 ? url : null;
  }

  /** The API an action button calls instead of opening a page (Approve / Reject), or null. */
  function actionPost(data, action, origin) {
    if (!action || !data || typeof data !== "object" || !data.posts) return null;
    return sameSiteApi(data.posts[action], origin);
  }

  /** Where a click (on the body or on an action button) should take the user. */
  function clickTarget(data, action, origin) {
    const fallback = `${origin}/`;
    if (!data || typeof data !== "object") return fallback;
    if (action && data.actions && typeof data.actions[action] === "string") {
      return safeUrl(data.actions[action], origin) || fallback;
    }
    return safeUrl(data.url || "/", origin) || fallback;
  }

  /**
   * Which open window of the app to reuse: one already showing the target, else the focused one, else
   * any; null means open a new window. Windows of other origins are never touched.
   */
  function chooseClient(clients, targetUrl, origin) {
    const own = [];
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i];
      if (client && typeof client.url === "string" && client.url.indexOf(`${origin}/`) === 0)
        own.push(client);
    }
    if (own.length === 0) return null;
    for (let j = 0; j < own.length; j++) if (own[j].url === targetUrl) return own[j];
    for (let k = 0; k < own.length; k++) if (own[k].focused) return own[k];
    return own[0];
  }

  root.SwLogic = { parsePushData, clickTarget, chooseClient, actionPost };
})(typeof self !== "undefined" ? self : globalThis);
