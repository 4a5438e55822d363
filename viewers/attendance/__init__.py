"""Who is watching: the players' heartbeats (store, fold), and what the channel's live page reads from them."""
