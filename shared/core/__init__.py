"""What every other package stands on: settings, engines and sessions, the error tree, the
product's fixed vocabulary (reasons, channels, options, setters) and the request contract."""
