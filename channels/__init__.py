"""Rasa input channels: the Twilio phone line (ConversationRelay and Gather)."""
