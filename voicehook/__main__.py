from voicehook.cli import main

main()
