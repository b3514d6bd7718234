"""What a scene shows, decided from the models' outputs: tags, people and their clothing, actions, places,
captions, and the words that name them in English and Korean. Models come through the registry only."""
