# Start-up cost: the smallest program that prints something.
print("hello world")
