"""OpenAI Events API connector: Tealium data in, OpenAI conversion events out."""
